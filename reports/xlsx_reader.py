"""openpyxl's read-only workbook reader, held to the caps of `reports.table_file`.

Apart from `table_file` so that openpyxl (about 0.3 s to import) is loaded only when a workbook
is read, not by every command that might read one.
"""

from __future__ import annotations

import zipfile

from openpyxl.reader.excel import ExcelReader
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.xml.constants import SHARED_STRINGS

from reports import table_file
from reports.errors import ImportFileError


class SizelessSheet(ReadOnlyWorksheet):  # type: ignore[misc]
    """openpyxl's read-only sheet, without a size: the size a sheet states is not believed, and
    not even looked for, which openpyxl does at load by reading the whole sheet when the
    <dimension> comes late or not at all (as in this project's own exports)."""

    def _get_size(self) -> None:
        pass


class CappedReader(ExcelReader):  # type: ignore[misc]
    """openpyxl's reader in read-only mode, with `SizelessSheet`s, refusing a workbook with a
    part that it reads whole larger than MAX_PART_BYTES: the shared strings wherever they are,
    and every part but the sheets. The sizes are those the zip file states: reading a part stops
    there."""

    def read(self) -> None:
        for part in self.archive.infolist():
            if part.filename.endswith((".xml", ".rels")) and "worksheets/" not in part.filename:
                check_size(part)
        super().read()

    def read_strings(self) -> None:
        found = self.package.find(SHARED_STRINGS)
        if found is not None and found.PartName[1:] in self.valid_files:
            check_size(self.archive.getinfo(found.PartName[1:]))
        super().read_strings()

    def read_worksheets(self) -> None:
        # openpyxl's own for read-only mode, with a `SizelessSheet` for each worksheet.
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files:
                continue
            if "chartsheet" in rel.Type:
                self.read_chartsheet(sheet, rel)
                continue
            found = SizelessSheet(self.wb, sheet.name, rel.target, self.shared_strings)
            found.sheet_state = sheet.state
            self.wb._sheets.append(found)


def check_size(part: zipfile.ZipInfo) -> None:
    cap = table_file.MAX_PART_BYTES
    if part.file_size > cap:
        raise ImportFileError(
            f"ไฟล์ Excel ส่วน {part.filename} ใหญ่เกิน {cap >> 20} MB "
            "กรุณาแบ่งไฟล์ หรือบันทึกเป็น CSV UTF-8 "
            f"(the part {part.filename} of the workbook is larger than {cap >> 20} MB)"
        )
