"""Documents for the follow-up tests, built at test time: a statistics manual as a PDF (reading data
from files on one page, writing it back on another), a spreadsheet guide that also talks about
reading and writing data (the distractor a follow-up without context drifts to), and two product
manuals with the same section names that differ only in their facts."""

from __future__ import annotations

from pathlib import Path

from tests import docgen

R_MANUAL_PAGES = [
    "7 Reading data from files\n\n"
    "Large data objects will usually be read as values from external files rather than entered "
    "during an R session at the keyboard. The input facilities of R are simple, and its "
    "requirements are fairly strict and even rather inflexible.\n\n"
    "If variables are to be held mainly in data frames, an entire data frame can be read "
    "directly with the read.table() function. The first line of the file should have a name "
    "for each variable in the data frame.\n\n"
    "> HousePrice <- read.table(\"houses.data\", header=TRUE)\n\n"
    "The scan() function reads a vector or a list from the console or from a file.",

    "7.1 Writing data to files\n\n"
    "Data frames are written back to a file with the write.table() function, the inverse of "
    "read.table(). Columns are separated by a space unless the sep argument says otherwise, "
    "and row names are written as the first column.\n\n"
    "> write.table(HousePrice, file=\"houses.csv\", sep=\",\")\n\n"
    "For a single vector or matrix the simpler write() function is enough; cat() prints "
    "values without quotes.",

    "12 Graphical procedures\n\n"
    "Graphical facilities are an important and extremely versatile component of the R "
    "environment. When you have finished with a graphics device, be sure to terminate the "
    "device driver by issuing the dev.off() command.\n\n"
    "A high-level plotting function always starts a new plot, erasing the current one.",
]

SPREADSHEET_GUIDE = (
    "# Team spreadsheet guide\n\n"
    "## Opening a sheet\n\n"
    "Shared sheets open in the browser from the team drive. Reading a large sheet can take a few "
    "seconds while the formulas are recalculated.\n\n"
    "## Saving your changes\n\n"
    "Changes are written back to the team drive when you press Save or when you close the "
    "window. Two people editing the same row see a conflict warning before anything is "
    "written.\n\n"
    "## Sharing\n\n"
    "Use the Share button to invite a colleague by e-mail address.\n")


def product_manual(name: str, model: str, *, soft_key: str, soft_seconds: int,
                   factory_key: str, firmware_port: str, firmware_file: str) -> str:
    """One vendor's manual; both vendors use the same section names and sentence shapes."""
    return (
        f"# {name} {model} user manual\n\n"
        f"## Resetting the device\n\n"
        f"There are two ways to reset the {name} {model}: a soft reset and a factory reset.\n\n"
        f"1. Soft reset: hold the {soft_key} button for {soft_seconds} seconds; your settings "
        f"are kept.\n"
        f"2. Factory reset: press {factory_key} with a paper clip while the power cable is "
        f"plugged in; every setting is erased.\n\n"
        f"## Updating the firmware\n\n"
        f"Copy the file {firmware_file} to a USB stick, insert it into the {firmware_port} port "
        f"and restart the {model}. The status light blinks while the update runs.\n\n"
        f"## Connecting to Wi-Fi\n\n"
        f"Open the {name} app, choose Add device and follow the steps on the screen.\n")


ACME = product_manual("Acme", "X100", soft_key="POWER", soft_seconds=5,
                      factory_key="the recessed RESET hole", firmware_port="rear USB-C",
                      firmware_file="acme-x100.bin")
ZETA = product_manual("Zeta", "Z200", soft_key="MODE", soft_seconds=12,
                      factory_key="the pinhole under the battery cover",
                      firmware_port="side micro-USB", firmware_file="zeta-z200.img")


def r_manual(folder: Path) -> Path:
    return docgen.pdf(folder / "R-manual.pdf", R_MANUAL_PAGES, title="An Introduction to R")
