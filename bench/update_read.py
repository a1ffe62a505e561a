"""What `rag index update` costs when one file changed among many PDFs and office files, with unchanged
files taken on their size and time (today) and with every file read, parsed and hashed again (before).

    python bench/update_read.py        # about 3 min on 2 cores

The 20 squad_it_dev articles are written three ways (.txt, .pdf with a paragraph a page, .docx with a
paragraph a block: 60 files), dated a minute back, and indexed with the default model. Then, `--repeats`
times each, interleaved in one process: a line is appended to one .txt file and the index updated,
once as the builder does it and once with the size-and-time shortcut turned off. Writes
bench/results/update_read.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from common import RESULTS, SQUAD_DOCS, machine

import index.builder
from rag.assistant import Assistant
from rag.config.settings import Settings
from tests.formats import make_docx
from tests.pdfgen import make_pdf


def corpus(folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    files = []
    for source in sorted(SQUAD_DOCS.glob("*.txt")):
        paragraphs = [p for p in source.read_text(encoding="utf-8").split("\n\n") if p.strip()]
        files.append(folder / source.name)
        files[-1].write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
        pdf = folder / f"{source.stem}.pdf"
        pdf.write_bytes(make_pdf([p.replace("\n", " ").encode("latin-1", "replace").decode("latin-1")
                                  for p in paragraphs]))
        files.append(pdf)
        files.append(make_docx(folder / f"{source.stem}.docx", [("p", p) for p in paragraphs]))
    back = time.time() - 60
    for path in files:
        os.utime(path, (back, back))
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = corpus(Path(tmp) / "docs")
        assistant = Assistant(Settings(home=Path(tmp) / "home"))
        began = time.perf_counter()
        built = assistant.build([str(Path(tmp) / "docs")])
        build_s = time.perf_counter() - began
        txt = next(p for p in files if p.suffix == ".txt")
        times: dict[str, list[float]] = {"size_and_time": [], "read_every_file": []}
        default = index.builder.RACY_SECONDS
        for n in range(args.repeats):
            for way, racy in (("size_and_time", default), ("read_every_file", 1e12)):
                index.builder.RACY_SECONDS = racy
                time.sleep(2.1)  # so the last build is over 2 s old: only the appended file is "racy"
                with open(txt, "a", encoding="utf-8") as fh:
                    fh.write(f"\nUna riga aggiunta {way} {n}.\n")
                began = time.perf_counter()
                report = assistant.update()
                times[way].append(time.perf_counter() - began)
                assert report.files_indexed == built.files_indexed
        index.builder.RACY_SECONDS = default
    result = {"command": "python bench/update_read.py" + (f" --repeats {args.repeats}" if args.repeats != 3 else ""),
              "machine": machine(), "files": len(files), "full_build_s": round(build_s, 2),
              "update_s": {way: round(statistics.median(t), 3) for way, t in times.items()},
              "update_s_runs": {way: [round(x, 3) for x in t] for way, t in times.items()}}
    result["ratio"] = round(result["update_s"]["size_and_time"] / result["update_s"]["read_every_file"], 3)
    (RESULTS / "update_read.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
