"""Help ▸ User guide: a short offline guide to the window (no clinical figures: those are in the
Guides page and resources/, with their sources)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

GUIDE = """
# Using IVIG Nurse Companion

## A visit, start to finish
1. **Patients** (Ctrl+2): select the patient. A visit starts only from the patient's IVIG order:
   without one, add it first with **Add order…** (as the prescriber wrote it).
2. **Start visit**. The **Dose** tab opens with the cursor in today's weight: type it, and
   acknowledge every warning shown.
3. **Lots**: the lots used, as printed on the carton. **Checklist**: answer each item;
   "Baseline vital signs recorded" can be ticked once the first reading is in.
4. **Infusion and vitals**: take the baseline reading, then **Start infusion**. Change the rate
   with **Rate changed**; **Stop (reaction)…** and **Finish infusion…** ask for the volume the
   pump shows.
5. **Reactions**, if any. **Sign**: set the end time and sign; a signed visit is read-only,
   corrections are addenda.

## Keyboard
- Ctrl+1 … Ctrl+5: the pages. Alt+1 … Alt+7: the visit's tabs.
- On the Infusion tab: Alt+T Temp, Alt+P Pulse, Alt+B BP systolic, Alt+D BP diastolic,
  Alt+R Resp, Alt+O SpO2, Alt+E rate, Alt+W the time a reading was taken (blank: now),
  Enter adds the reading. No key pauses, stops or finishes an infusion.
- Ctrl+L locks the window, Ctrl+E exports the visit (FHIR), Ctrl+Shift+S saves its summary
  as PDF, Ctrl+P prints, Ctrl+F finds a patient, Ctrl+Q quits.

## Charting after the fact
A reading taken earlier: type the time it was taken in **Taken at** (HH:MM, within the visit,
never later than now). The record and the summary show both the time of care and when it was
entered.

## Backups and other records
- **File ▸ Back up now…** copies the encrypted record; keep the copy away from the laptop.
- **File ▸ Open record…** and **New record…** open another record in its own window, with its
  own passphrase. **Try demo data…** puts demo patients in a separate demo record.

## After a crash
Everything is saved as it is entered. If the window closed unexpectedly, the next start says
so and opens the visit that needs you (a running infusion, or today's unsigned visit): check
the infusion clock and the time of the last vital signs. Details for support are written to the
logs folder (no patient details).
"""


class UserGuideDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("user_guide")
        self.setWindowTitle("User guide")
        self.text = QTextBrowser()
        self.text.setObjectName("user_guide_text")
        self.text.setMarkdown(GUIDE)
        self.text.setOpenExternalLinks(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(720, 620)
