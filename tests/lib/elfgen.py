"""Hand-made ELF files for the tests of the ELF reader and the lister: just
the sections they read (stapsdt notes, .stapsdt.base, .probes, symbols,
pyprobe's signature notes), 32 or 64-bit, either byte order, and easy to
break on purpose. The one ELF writer of the tests (tests/elf/make_inputs.py,
tests/lister/make_inputs.py, test_lister_cli.py, fuzz/make_seeds.sh).

    image = Image(bits=64)
    image.probe("python", "line", "-4@%edi", pc=0x1010, semaphore=0x4000)
    image.function("hook", 0x1000, 0x40)
    data = image.build()

Layout: ELF header, section contents, section headers last (as linkers
write them), so that cutting the file loses the headers first; or, with
build(headers_first=True), the section headers right after the ELF header,
so that a cut loses the last section's bytes and nothing else.
"""
import struct

TEXT = 0x1000
BASE = 0x2000
PROBES = 0x4000

SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_NOTE = 1, 2, 3, 7
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 1, 2, 4
STT_FUNC, STB_GLOBAL = 2, 1


class Image:
    def __init__(self, bits=64, msb=False, base=BASE):
        self.bits = bits
        self.order = ">" if msb else "<"
        self.base = base          # address of .stapsdt.base; None: no such section
        self.notes = b""          # .note.stapsdt
        self.signatures = b""     # .note.pyprobe
        self.functions = []       # (name, address, size)
        self.extra_sections = []  # (name, type, flags, address, bytes)

    @property
    def word(self):
        return "Q" if self.bits == 64 else "I"

    def pack(self, fmt, *values):
        return struct.pack(self.order + fmt, *values)

    def note(self, owner, note_type, desc, namesz=None, descsz=None):
        """A note's bytes, padded; namesz/descsz may lie."""
        name = owner.encode() + b"\0"
        header = self.pack("III", len(name) if namesz is None else namesz,
                           len(desc) if descsz is None else descsz, note_type)
        return header + pad4(name) + pad4(desc)

    def probe_desc(self, provider, name, args, pc, semaphore=0, base=None, strings=None):
        """A stapsdt descriptor: three addresses, then the strings (given raw
        as `strings` to break them)."""
        if strings is None:
            strings = b"\0".join(s.encode() for s in (provider, name, args)) + b"\0"
        note_base = self.base if base is None else base
        return self.pack(self.word * 3, pc, note_base or 0, semaphore) + strings

    def probe(self, provider, name, args, pc, semaphore=0, base=None, strings=None, **lies):
        self.notes += self.note("stapsdt", 3,
                                self.probe_desc(provider, name, args, pc, semaphore, base, strings), **lies)
        return self

    def raw_note(self, data):
        self.notes += data
        return self

    def signature(self, provider, name, types, raw=None):
        desc = raw if raw is not None else b"".join(s.encode() + b"\0" for s in [provider, name] + list(types))
        self.signatures += self.note("pyprobe", 1, desc)
        return self

    def function(self, name, address, size):
        self.functions.append((name, address, size))
        return self

    def section(self, name, sh_type, flags, address, data):
        self.extra_sections.append((name, sh_type, flags, address, data))
        return self

    def _symbols(self):
        strtab = b"\0"
        symbols = self.pack("IIIBBH", 0, 0, 0, 0, 0, 0) if self.bits == 32 else self.pack("IBBHQQ", 0, 0, 0, 0, 0, 0)
        for name, address, size in self.functions:
            info = (STB_GLOBAL << 4) | STT_FUNC
            if self.bits == 64:
                symbols += self.pack("IBBHQQ", len(strtab), info, 0, 2, address, size)
            else:
                symbols += self.pack("IIIBBH", len(strtab), address, size, info, 0, 2)
            strtab += name.encode() + b"\0"
        return symbols, strtab

    def sections(self):
        """(name, type, flags, address, bytes, link, entsize) in order; index
        0 is the null section, 1 .shstrtab, 2 .text."""
        out = [(".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, TEXT, b"\x90" * 0x100, 0, 0)]
        if self.base is not None:
            out.append((".stapsdt.base", SHT_PROGBITS, SHF_ALLOC, self.base, b"\0", 0, 0))
        out.append((".probes", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, PROBES, b"\0" * 32, 0, 0))
        if self.notes:
            out.append((".note.stapsdt", SHT_NOTE, 0, 0, self.notes, 0, 0))
        if self.signatures:
            out.append((".note.pyprobe", SHT_NOTE, 0, 0, self.signatures, 0, 0))
        for name, sh_type, flags, address, data in self.extra_sections:
            out.append((name, sh_type, flags, address, data, 0, 0))
        if self.functions:
            symbols, strtab = self._symbols()
            symtab_index = 2 + len(out)  # null, .shstrtab, then these
            out.append((".symtab", SHT_SYMTAB, 0, 0, symbols, symtab_index + 1, 24 if self.bits == 64 else 16))
            out.append((".strtab", SHT_STRTAB, 0, 0, strtab, 0, 0))
        return out

    def build(self, headers_first=False):
        sections = self.sections()
        names = b"\0.shstrtab\0"
        name_at = []
        for section in sections:
            name_at.append(len(names))
            names += section[0].encode() + b"\0"
        all_sections = [(1, SHT_STRTAB, 0, 0, names, 0, 0)] + [
            (name_at[i],) + s[1:] for i, s in enumerate(sections)]
        ehsize = 64 if self.bits == 64 else 52
        shentsize = 64 if self.bits == 64 else 40
        start = ehsize + (shentsize * (1 + len(all_sections)) if headers_first else 0)
        body = b""
        headers = [self._shdr(0, 0, 0, 0, 0, 0, 0, 0)]
        for name, sh_type, flags, address, data, link, entsize in all_sections:
            offset = start + len(body)
            align = 4 if sh_type == SHT_NOTE else 8 if sh_type == SHT_SYMTAB else 1
            pad = (-offset) % align
            body += b"\0" * pad
            offset += pad
            info = 1 if sh_type == SHT_SYMTAB else 0  # the first global symbol
            headers.append(self._shdr(name, sh_type, flags, address, offset, len(data), link, entsize, align, info))
            body += data
        if headers_first:
            return self._ehdr(ehsize, len(headers), ehsize, shentsize) + b"".join(headers) + body
        body += b"\0" * ((-(ehsize + len(body))) % 8)
        shoff = ehsize + len(body)
        return self._ehdr(shoff, len(headers), ehsize, shentsize) + body + b"".join(headers)

    def _ehdr(self, shoff, shnum, ehsize, shentsize):
        ident = b"\x7fELF" + bytes([2 if self.bits == 64 else 1, 2 if self.order == ">" else 1, 1]) + b"\0" * 9
        machine = 62 if self.bits == 64 else 3
        if self.bits == 64:
            return ident + self.pack("HHIQQQIHHHHHH", 3, machine, 1, 0, 0, shoff, 0, ehsize, 0, 0, shentsize, shnum, 1)
        return ident + self.pack("HHIIIIIHHHHHH", 3, machine, 1, 0, 0, shoff, 0, ehsize, 0, 0, shentsize, shnum, 1)

    def _shdr(self, name, sh_type, flags, address, offset, size, link, entsize, align=1, info=0):
        fmt = "IIQQQQIIQQ" if self.bits == 64 else "IIIIIIIIII"
        return self.pack(fmt, name, sh_type, flags, address, offset, size, link, info, align, entsize)


def pad4(data):
    return data + b"\0" * ((-len(data)) % 4)
