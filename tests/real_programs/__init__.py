"""Real programs: the files leerbot makes, opened by the programs people open them with.

Unit tests check what we meant to write; these check what other programs read. Each test
builds a realistic community, makes its files exactly as the bot hands them to a member or
a coordinator, and opens them in real, independent software, run headless.

Documents and spreadsheets (`programs.py`, `conftest.py`)
    LibreOffice (writer and calc) converts DOCX, XLSX and CSV; poppler's `pdftotext` and
    `pdftoppm` read and picture the PDFs. Pictures of page 1 go to
    `tests/real_programs/output/` (git-ignored, kept by CI as an artifact).

Calendars (`test_calendars.py`)
    Every `.ics` from `/sessie agenda` (each series' file and a member's own file) for a
    community with a weekly series across the end-of-March clock change, one meeting moved,
    one cancelled, a series moved to another time as a whole, an open-ended series cancelled
    from a date on and a cancelled one-off meeting. Each file is parsed with the Python
    packages `icalendar`, `vobject` and `ics`, and expanded to its meetings with
    `recurring-ical-events` and with `khal` (a terminal calendar, run with a throw-away
    configuration). Checked: every meeting at the right local time before and after the
    clock change, cancelled meetings absent, no meeting twice after a series change, and no
    meeting twice after importing the series files and the member's own file together
    (merged by UID and RECURRENCE-ID, as a calendar does). vobject reads the file's own
    VTIMEZONE (its cache of zones from earlier files is emptied first), so a wrong zone
    shows. No calendar test reads the clock: the community is built with a fixed "now".

What they need
    Python packages from the `dev` extra. Debian packages: `libreoffice-writer`,
    `libreoffice-calc`, `poppler-utils`, `khal`. `.ci/run` installs the Debian packages when
    they are missing; locally, a test whose program is missing is skipped and names the
    package to install.

Run them with `.venv/bin/python -m pytest -q tests/real_programs` (they are part of the
whole suite too).
"""
