#!/usr/bin/env python3
"""Writes the bench's binary documents (docs/*.pdf, docs/*.docx) from the text below, so that what
they say can be read and reviewed here. Run with the venv of .ci/rag-fixtures.sh (python-docx); the
PDFs are written by hand (one Helvetica text stream per page), with no PDF library.
Usage: make-docs.py DOCS_DIR
"""

import os
import sys

import docx

PDFS = {
    "heating-manual.pdf": [
        [
            "Thermia HX-40 boiler: owner's notes",
            "The boiler hangs in the utility room, left of the washing machine.",
            "It needs a service by a certified engineer every 12 months; the last service was in November 2026.",
        ],
        [
            "Troubleshooting",
            "The water pressure should read between 1.2 and 1.5 bar when the system is cold.",
            "If the display shows fault F28, hold the reset button for 5 seconds and wait two minutes.",
            "If the fault returns, call the installer, Warmhaus Heating, on 555-0199.",
        ],
    ],
    "tax-2025.pdf": [
        [
            "Tax return for 2025",
            "The return must be filed by 31 July 2026.",
            "Our accountant is Maria Lopes; she needs the bank statements by the end of May.",
            "The home office deduction comes to 1,260 euros for the year.",
        ],
    ],
}

DOCXS = {
    "car-insurance.docx": [
        "Car insurance",
        "The car is insured with Nordlys Mutual under policy number NM-4471-208.",
        "The policy renews every year on 14 March; the premium is paid by direct debit.",
        "The excess for a claim is 350 euros. Roadside assistance is included across Europe.",
    ],
    "lease-agreement.docx": [
        "Lease of the flat",
        "The lease runs until 30 September 2028.",
        "Either side may end it with three months' notice in writing.",
        "The rent is 1,150 euros per month, due on the first day of the month.",
        "The landlord is Henrik Dahl; repairs over 200 euros need his approval first.",
    ],
}


def pdf_escape(text):
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_pdf(path, pages):
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", None, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for lines in pages:
        ops = ["BT", "/F1 11 Tf", "72 740 Td", "14 TL"] + [f"({pdf_escape(line)}) Tj T*" for line in lines] + ["ET"]
        stream = "\n".join(ops).encode("latin-1")
        objs.append(f"<< /Length {len(stream)} >>\nstream\n{stream.decode('latin-1')}\nendstream")
        content = len(objs)
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content} 0 R /Resources << /Font << /F1 3 0 R >> >> >>")
        kids.append(f"{len(objs)} 0 R")
    objs[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    with open(path, "wb") as fh:
        fh.write(out)


def write_docx(path, paragraphs):
    doc = docx.Document()
    doc.add_heading(paragraphs[0], level=1)
    for p in paragraphs[1:]:
        doc.add_paragraph(p)
    # A fixed creation time keeps the file the same from run to run.
    import datetime

    fixed = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    doc.core_properties.created = fixed
    doc.core_properties.modified = fixed
    doc.save(path)


def main(out):
    for name, pages in PDFS.items():
        write_pdf(os.path.join(out, name), pages)
    for name, paragraphs in DOCXS.items():
        write_docx(os.path.join(out, name), paragraphs)


if __name__ == "__main__":
    main(sys.argv[1])
