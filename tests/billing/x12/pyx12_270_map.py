"""A pyx12 map for the 270 inquiry, 005010X279A1, written from the TR3's loop structure.

pyx12 4.0 ships maps for the 4010 270 only (see /work/shared/domain/x12.md §6). This module
describes the loops and segments the 5010 TR3 defines for an inquiry (information source
2000A, receiver 2000B, subscriber 2000C, dependent 2000D, their 2100 names and 2110
eligibility requests) compactly in Python, renders pyx12's map XML from it, and builds a
temporary map directory around pyx12's own installed element and code tables, so a test
can validate a 270 with :func:`validate`. Data element numbers are the X12 dictionary's.
"""

from __future__ import annotations

import io
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import pyx12
import pyx12.errors
import pyx12.params
import pyx12.x12n_document

VERSION = "005010X279A1"

# An element is "data_ele usage [codes]"; a composite is a tuple (data_ele, usage, components...).
Spec = str | tuple[str, ...]


@dataclass(frozen=True)
class Seg:
    xid: str
    usage: str
    max_use: str
    elements: tuple[Spec, ...]
    name: str = ""


@dataclass(frozen=True)
class Loop:
    xid: str
    usage: str
    repeat: str
    children: tuple[Seg | Loop, ...]
    kind: str = ""
    name: str = ""


def seg(xid: str, usage: str, max_use: str, *elements: Spec) -> Seg:
    return Seg(xid, usage, max_use, elements)


def loop(xid: str, usage: str, repeat: str, *children: Seg | Loop, kind: str = "") -> Loop:
    return Loop(xid, usage, repeat, children, kind)


# -- the segments, as the X279A1 TR3 uses them ------------------------------------------------------

REF_ELEMENTS: tuple[Spec, ...] = ("128 R", "127 R", "352 S", ("C040", "N", "128 R", "127 R"))
N3 = seg("N3", "S", "1", "166 R", "166 S")
N4 = seg("N4", "S", "1", "19 R", "156 S", "116 S", "26 S", "309 N", "310 N", "1715 S")
PRV = seg("PRV", "S", "1", "1221 R AD AT BI CO CV H HH LA OT P1 P2 PC PE R RF SB SK SU", "128 R PXC",
          "127 R", "156 N", ("C035", "N", "1223 R"), "1223 N")
DMG = seg("DMG", "S", "1", "1250 R D8", "1251 R", "1068 S F M U", "1067 N", ("C056", "N", "1109 R"),
          "1066 N", "26 N", "659 N", "380 N", "1270 N", "1271 N")
INS = seg("INS", "S", "1", "1073 R Y N", "1069 R 18 01 19 20 21 39 40 53 G8", "875 N", "1203 N",
          "1216 N", "1218 N", "1219 N", "584 N", "1220 N", "1073 N", "1250 N", "1251 N", "1165 N",
          "19 N", "156 N", "26 N", "1470 S")
HI = seg("HI", "S", "1", *[("C022", "R" if n == 1 else "S", "1270 R ABK ABF BK BF", "1271 R") for n in range(1, 9)])
DTP_PLAN = seg("DTP", "S", "2", "374 R 291", "1250 R D8 RD8", "1251 R")
NAME_ELEMENTS = ("1035 S", "1036 S", "1037 S", "1038 N", "1039 S")
TRN = seg("TRN", "S", "2", "481 R 1", "127 R", "509 R", "127 S")
MED_PROCEDURE: Spec = ("C003", "S", "235 R AD CJ HC ID IV N4 ZZ", "234 R", "1339 S", "1339 S", "1339 S",
                       "1339 S", "352 N", "234 N")
DX_POINTER: Spec = ("C004", "S", "1328 R", "1328 S", "1328 S", "1328 S")


def hl(level: str, children: str, parent: str = "R") -> Seg:
    return seg("HL", "R", "1", "628 R", f"734 {parent}", f"735 R {level}", f"736 R {children}")


def name(entities: str, kinds: str, qualifiers: str, id_usage: str = "R") -> Seg:
    qualifier = f"66 {id_usage} {qualifiers}".strip()
    return seg("NM1", "R", "1", f"98 R {entities}", f"1065 R {kinds}", *NAME_ELEMENTS, qualifier,
               f"67 {id_usage}", "706 N", "98 N", "1035 N")


def ref(max_use: str) -> Seg:
    return seg("REF", "S", max_use, *REF_ELEMENTS)


SOURCE = loop(
    "2000A", "R", ">1",
    hl("20", "1", parent="N"),
    loop("2100A", "R", "1", name("2B 36 GP P5 PR", "1 2", "24 46 FI NI PI XV XX")),
    loop(
        "2000B", "R", ">1",
        hl("21", "1"),
        loop("2100B", "R", "1", name("1P 2B 36 80 FA GP P5 PR", "1 2", "24 34 46 FI PI PP SV XV XX"),
             ref("9"), N3, N4, PRV),
        loop(
            "2000C", "R", ">1",
            hl("22", "0 1"),
            TRN,
            loop("2100C", "R", "1", name("IL", "1 2", "II MI", id_usage="S"), ref("9"), N3, N4, PRV, DMG,
                 INS, HI, DTP_PLAN,
                 loop("2110C", "S", "99",
                      seg("EQ", "R", "1", "1365 S", MED_PROCEDURE, "1207 S CHD DEP ECH EMP ESP FAM IND SPC SPO",
                          "1336 N", DX_POINTER),
                      seg("AMT", "S", "1", "522 R R", "782 R"),
                      seg("AMT", "S", "1", "522 R PB", "782 R"),
                      seg("III", "S", "10", "1270 S ZZ", "1271 S"),
                      seg("REF", "S", "1", "128 R 9F G1", "127 R", "352 N"),
                      seg("DTP", "S", "1", "374 R 291", "1250 R D8 RD8", "1251 R"))),
            loop(
                "2000D", "S", ">1",
                hl("23", "0"),
                TRN,
                loop("2100D", "R", "1", name("03", "1", "", id_usage="N"), ref("9"), N3, N4, PRV, DMG, INS, HI,
                     DTP_PLAN,
                     loop("2110D", "S", "99",
                          seg("EQ", "R", "1", "1365 S", MED_PROCEDURE, "1207 N", "1336 N", DX_POINTER),
                          seg("III", "S", "10", "1270 S ZZ", "1271 S"),
                          seg("REF", "S", "1", "128 R 9F G1", "127 R", "352 N"),
                          seg("DTP", "S", "1", "374 R 291", "1250 R D8 RD8", "1251 R"))),
            ),
        ),
    ),
)

ISA = seg("ISA", "R", "1", "I01 R 00 03", "I02 R", "I03 R 00 01", "I04 R", "I05 R 01 14 20 27 28 29 30 33 ZZ",
          "I06 R", "I05 R 01 14 20 27 28 29 30 33 ZZ", "I07 R", "I08 R", "I09 R", "I65 R", "I11 R 00501",
          "I12 R", "I13 R 0 1", "I14 R P T", "I15 R")
GS = seg("GS", "R", "1", "479 R HS", "142 R", "124 R", "373 R", "337 R", "28 R", "455 R X", f"480 R {VERSION}")

TRANSACTION = loop(
    "ISA_LOOP", "R", ">1",
    ISA,
    loop(
        "GS_LOOP", "R", ">1",
        GS,
        loop(
            "ST_LOOP", "R", ">1",
            seg("ST", "R", "1", "143 R 270", "329 R", f"1705 R {VERSION}"),
            loop("HEADER", "R", "1", seg("BHT", "R", "1", "1005 R 0022", "353 R 01 13 36", "127 S", "373 R",
                                         "337 S", "640 S RT"), kind="wrapper"),
            loop("DETAIL", "R", "1", SOURCE, kind="wrapper"),
            seg("SE", "R", "1", "96 R", "329 R"),
            kind="explicit",
        ),
        seg("GE", "R", "1", "97 R", "28 R"),
        kind="explicit",
    ),
    seg("TA1", "S", "1", "I12 R", "I08 R", "I09 R", "I17 R A E R", "I18 R"),
    seg("IEA", "R", "1", "I16 R", "I12 R"),
    kind="explicit",
)


# -- rendering ---------------------------------------------------------------------------------------

def _element(xid: str, spec: str, seq: int, pad: str) -> str:
    data_ele, usage, *codes = spec.split()
    out = [f'{pad}<element xid="{xid}">', f"{pad}  <data_ele>{data_ele}</data_ele>",
           f"{pad}  <name>{xid}</name>", f"{pad}  <usage>{usage}</usage>", f"{pad}  <seq>{seq:02d}</seq>"]
    if codes:
        out.append(f"{pad}  <valid_codes>")
        out.extend(f"{pad}    <code>{escape(c)}</code>" for c in codes)
        out.append(f"{pad}  </valid_codes>")
    out.append(f"{pad}</element>")
    return "\n".join(out)


def _segment(node: Seg, pos: int, pad: str) -> str:
    out = [f'{pad}<segment xid="{node.xid}">', f"{pad}  <name>{node.xid}</name>",
           f"{pad}  <usage>{node.usage}</usage>", f"{pad}  <pos>{pos:04d}</pos>",
           f"{pad}  <max_use>{escape(node.max_use)}</max_use>"]
    for seq, spec in enumerate(node.elements, start=1):
        xid = f"{node.xid}{seq:02d}"
        if isinstance(spec, tuple):
            data_ele, usage, *parts = spec
            out += [f'{pad}  <composite xid="{xid}">', f"{pad}    <data_ele>{data_ele}</data_ele>",
                    f"{pad}    <name>{xid}</name>", f"{pad}    <usage>{usage}</usage>",
                    f"{pad}    <seq>{seq:02d}</seq>"]
            out += [_element(f"{xid}-{n:02d}", part, n, pad + "    ") for n, part in enumerate(parts, start=1)]
            out.append(f"{pad}  </composite>")
        else:
            out.append(_element(xid, spec, seq, pad + "  "))
    out.append(f"{pad}</segment>")
    return "\n".join(out)


def _loop(node: Loop, pos: int, pad: str) -> str:
    kind = f' type="{node.kind}"' if node.kind else ""
    out = [f'{pad}<loop xid="{node.xid}"{kind}>', f"{pad}  <name>{node.xid}</name>",
           f"{pad}  <usage>{node.usage}</usage>", f"{pad}  <pos>{pos:04d}</pos>",
           f"{pad}  <repeat>{escape(node.repeat)}</repeat>"]
    for index, child in enumerate(node.children, start=1):
        render = _segment if isinstance(child, Seg) else _loop
        out.append(render(child, index * 10, pad + "  "))  # type: ignore[arg-type]
    out.append(f"{pad}</loop>")
    return "\n".join(out)


def map_xml() -> str:
    return "\n".join(['<?xml version="1.0" encoding="utf-8"?>', '<transaction xid="270">',
                      f"  <name>Health Care Eligibility Benefit Inquiry {VERSION}</name>",
                      _loop(TRANSACTION, 10, "  "), "</transaction>", ""])


MAP_FILE = "270.5010.X279.A1.xml"


def build_map_directory(target: Path) -> Path:
    """pyx12's installed tables plus our 270 map, registered for GS08 005010X279A1 / GS01 HS."""
    installed = Path(pyx12.__file__).parent / "map"
    target.mkdir(parents=True, exist_ok=True)
    for source in installed.iterdir():
        if source.suffix in (".xml", ".xsd", ".dtd"):
            shutil.copy(source, target / source.name)
    control = target / "x12.control.00501.xml"
    control.write_text(
        control.read_text().replace("<code>005010X279</code>", f"<code>005010X279</code>\n<code>{VERSION}</code>")
    )
    maps = target / "maps.xml"
    maps.write_text(
        maps.read_text().replace(
            '<version icvn="00501">',
            f'<version icvn="00501">\n    <map vriic="{VERSION}" fic="HS" abbr="270">{MAP_FILE}</map>',
            1,
        )
    )
    (target / MAP_FILE).write_text(map_xml())
    return target


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def validate(text: str, map_dir: Path) -> list[str]:
    """pyx12's complaints about ``text`` (an empty list when the 270 is valid)."""
    handler = _Collect()
    logger = logging.getLogger("pyx12")
    logger.addHandler(handler)
    previous = logger.propagate
    logger.propagate = False
    try:
        ok = pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(), src_file=io.StringIO(text), fd_997=io.StringIO(), fd_html=None,
            fd_xmldoc=None, fd_json=None, map_path=str(map_dir),
        )
    except pyx12.errors.EngineError as exc:
        return [f"pyx12 engine error: {exc}"]
    finally:
        logger.removeHandler(handler)
        logger.propagate = previous
    if not ok and not handler.messages:
        return ["pyx12 reported failure without a message"]
    return handler.messages if not ok else [m for m in handler.messages if "error" in m.lower()]
