/*
 * The ELF object of a runtime provider (layout in rt_image.h).
 *
 * The sections' contents are built twice: once to know their sizes, which
 * fixes the layout (every allocated section at the address equal to its
 * file offset, each segment on a page of its own), and once more with the
 * addresses filled in. libelf then writes the headers and the contents as
 * laid out (ELF_F_LAYOUT). The contents are written in the host's byte
 * order, which is the object's: it is only ever generated for the machine
 * that loads it.
 */
#include "rt_image.h"
#include "grow.h"

#include <elf.h>
#include <errno.h>
#include <libelf.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyprobe_runtime.h"
#include "rt_types.h"

enum {
    PAGE = 0x1000,       /* segment alignment: x86-64's page size */
    SLOT = 16,           /* bytes of .text per probe */
    PHDR_COUNT = 5,      /* three PT_LOAD, PT_DYNAMIC, PT_GNU_STACK */
    DYNAMIC_COUNT = 6,   /* DT_HASH, DT_STRTAB, DT_SYMTAB, DT_STRSZ, DT_SYMENT, DT_NULL */
};

/* A site function: the 5-byte nop (the probe site: kernels since 6.x turn
 * a uprobe on it into a call instead of a trap), then ret. */
static const unsigned char site_code[] = {0x0f, 0x1f, 0x44, 0x00, 0x00, 0xc3};
#define INT3 0xcc

/* The sections, in file order. */
enum section {
    S_NULL, S_HASH, S_DYNSYM, S_DYNSTR, S_BASE,  /* R segment */
    S_TEXT,                                      /* R X */
    S_DYNAMIC, S_PROBES,                         /* RW */
    S_STAPSDT, S_SIGNATURES, S_SHSTRTAB,         /* not loaded */
    S_COUNT
};

struct section_kind {
    const char *name;
    Elf64_Word type;
    Elf64_Xword flags, align, entsize;
    enum section link;
};

static const struct section_kind kinds[S_COUNT] = {
    [S_HASH] = {".hash", SHT_HASH, SHF_ALLOC, 8, 4, S_DYNSYM},
    [S_DYNSYM] = {".dynsym", SHT_DYNSYM, SHF_ALLOC, 8, sizeof(Elf64_Sym), S_DYNSTR},
    [S_DYNSTR] = {".dynstr", SHT_STRTAB, SHF_ALLOC, 1, 0, S_NULL},
    [S_BASE] = {PYPROBE_STAPSDT_BASE_SECTION, SHT_PROGBITS, SHF_ALLOC, 1, 0, S_NULL},
    [S_TEXT] = {".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, SLOT, 0, S_NULL},
    [S_DYNAMIC] = {".dynamic", SHT_DYNAMIC, SHF_ALLOC | SHF_WRITE, 8, sizeof(Elf64_Dyn), S_DYNSTR},
    [S_PROBES] = {".probes", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, 2, 0, S_NULL},
    [S_STAPSDT] = {PYPROBE_STAPSDT_SECTION, SHT_NOTE, 0, 4, 0, S_NULL},
    [S_SIGNATURES] = {PYPROBE_SIGNATURE_SECTION, SHT_NOTE, 0, 4, 0, S_NULL},
    [S_SHSTRTAB] = {".shstrtab", SHT_STRTAB, 0, 1, 0, S_NULL},
};

/* ---- growable byte buffers ---- */

struct buf {
    unsigned char *data;
    size_t size, capacity;
    bool failed; /* out of memory: later appends do nothing */
};

static void buf_append(struct buf *b, const void *bytes, size_t size)
{
    if (b->failed || pyprobe__grow(&b->data, &b->capacity, b->size + size, 1) != 0) {
        b->failed = true;
        return;
    }
    if (size)
        memcpy(b->data + b->size, bytes, size);
    b->size += size;
}

static void buf_fill(struct buf *b, unsigned char byte, size_t count)
{
    for (size_t i = 0; i < count; i++)
        buf_append(b, &byte, 1);
}

static void buf_align(struct buf *b, size_t alignment)
{
    buf_fill(b, 0, (alignment - b->size % alignment) % alignment);
}

/* Appends `s` with its NUL: its offset in the buffer. */
static Elf64_Word buf_string(struct buf *b, const char *s)
{
    size_t offset = b->size;

    buf_append(b, s, strlen(s) + 1);
    return (Elf64_Word)offset;
}

static void buf_u64(struct buf *b, uint64_t value)
{
    buf_append(b, &value, sizeof value);
}

/* ---- argument types ---- */

static const char *const argument_registers[] = {"%rdi", "%rsi", "%rdx", "%rcx", "%r8", "%r9"};
#define REGISTER_ARGS (sizeof argument_registers / sizeof argument_registers[0])

int pyprobe__rt_image_supported(void)
{
#if defined(__x86_64__)
    return 1;
#else
    return 0;
#endif
}

void pyprobe__rt_image_args(const uint8_t *types, unsigned count, char *out)
{
    size_t used = 0;

    out[0] = '\0';
    for (unsigned i = 0; i < count && used < PYPROBE__RT_IMAGE_ARGS_MAX; i++) {
        const struct pyprobe__arg_type *type = &pyprobe__arg_types[types[i]];
        const char *space = i ? " " : "", *sign = type->is_signed ? "-" : "";

        /* At the site the return address is at (%rsp): the seventh value
         * is at 8(%rsp). */
        if (i < REGISTER_ARGS)
            used += (size_t)snprintf(out + used, PYPROBE__RT_IMAGE_ARGS_MAX - used, "%s%s%u@%s", space, sign,
                                     type->bits / 8, argument_registers[i]);
        else
            used += (size_t)snprintf(out + used, PYPROBE__RT_IMAGE_ARGS_MAX - used, "%s%s%u@%u(%%rsp)", space,
                                     sign, type->bits / 8, (unsigned)(8 * (i - REGISTER_ARGS + 1)));
    }
}

/* ---- the image ---- */

struct image {
    const char *provider;
    const struct pyprobe__rt_image_probe *probes;
    size_t count;
    struct buf content[S_COUNT];
    Elf64_Addr address[S_COUNT]; /* also the file offset */
    Elf64_Word shstrtab_name[S_COUNT];
    Elf64_Off section_headers;
};

static Elf64_Addr site_address(const struct image *im, size_t i)
{
    return im->address[S_TEXT] + (Elf64_Addr)(i * SLOT);
}

static Elf64_Addr semaphore_address(const struct image *im, size_t i)
{
    return im->address[S_PROBES] + (Elf64_Addr)(2 * i);
}

/* The System V ELF hash (DT_HASH). */
static uint32_t sysv_hash(const char *name)
{
    uint32_t h = 0;

    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        uint32_t g;

        h = (h << 4) + *p;
        g = h & 0xf0000000u;
        if (g)
            h ^= g >> 24;
        h &= ~g;
    }
    return h;
}

/* Symbol `index` (1-based, 0 is the null symbol): 1..count name the site
 * functions PROVIDER_PROBE_site, count+1..2*count the semaphores
 * PROVIDER_PROBE_semaphore (as systemtap's dtrace -G names them). The
 * provider in the names keeps `break main` in gdb off a probe called main. */
#define SYMBOL_MAX (PYPROBE_PROVIDER_NAME_MAX + PYPROBE_PROBE_NAME_MAX + 16)

static void symbol_name(const struct image *im, size_t index, char out[SYMBOL_MAX])
{
    size_t probe = (index - 1) % im->count;

    snprintf(out, SYMBOL_MAX, "%s_%s_%s", im->provider, im->probes[probe].name,
             index <= im->count ? "site" : "semaphore");
}

/* .dynstr, and every symbol's name offset in it. */
static void build_dynstr(struct image *im, Elf64_Word *names, size_t symbols)
{
    struct buf *b = &im->content[S_DYNSTR];
    char name[SYMBOL_MAX];

    names[0] = buf_string(b, "");
    for (size_t i = 1; i < symbols; i++) {
        symbol_name(im, i, name);
        names[i] = buf_string(b, name);
    }
}

static Elf64_Sym symbol(Elf64_Word name, unsigned char type, enum section section, Elf64_Addr value,
                        Elf64_Xword size)
{
    Elf64_Sym s = {.st_name = name, .st_info = ELF64_ST_INFO(STB_GLOBAL, type),
                   .st_other = STV_DEFAULT, .st_shndx = (Elf64_Half)section, .st_value = value,
                   .st_size = size};
    return s;
}

static void build_dynsym(struct image *im, const Elf64_Word *names)
{
    struct buf *b = &im->content[S_DYNSYM];
    Elf64_Sym null_symbol = {0};

    buf_append(b, &null_symbol, sizeof null_symbol);
    for (size_t i = 0; i < im->count; i++) {
        Elf64_Sym s = symbol(names[1 + i], STT_FUNC, S_TEXT, site_address(im, i), sizeof site_code);
        buf_append(b, &s, sizeof s);
    }
    for (size_t i = 0; i < im->count; i++) {
        Elf64_Sym s = symbol(names[1 + im->count + i], STT_OBJECT, S_PROBES, semaphore_address(im, i), 2);
        buf_append(b, &s, sizeof s);
    }
}

/* DT_HASH: nbucket, nchain, the buckets, the chains. */
static void build_hash(struct image *im, size_t symbols)
{
    struct buf *b = &im->content[S_HASH];
    uint32_t buckets = (uint32_t)(symbols / 2 + 1), header[2] = {buckets, (uint32_t)symbols};
    uint32_t *table = calloc(buckets + symbols, sizeof *table);
    char name[SYMBOL_MAX];

    if (!table) {
        b->failed = true;
        return;
    }
    for (size_t i = 1; i < symbols; i++) {
        uint32_t bucket;

        symbol_name(im, i, name);
        bucket = sysv_hash(name) % buckets;
        table[buckets + i] = table[bucket]; /* chain[i] = the bucket's previous head */
        table[bucket] = (uint32_t)i;
    }
    buf_append(b, header, sizeof header);
    buf_append(b, table, (buckets + symbols) * sizeof *table);
    free(table);
}

static void build_symbols(struct image *im)
{
    size_t symbols = 1 + 2 * im->count;
    Elf64_Word *names = calloc(symbols, sizeof *names);

    if (!names) {
        im->content[S_DYNSYM].failed = true;
        return;
    }
    build_dynstr(im, names, symbols);
    build_dynsym(im, names);
    build_hash(im, symbols);
    free(names);
}

static void build_text(struct image *im)
{
    struct buf *b = &im->content[S_TEXT];

    for (size_t i = 0; i < im->count; i++) {
        buf_append(b, site_code, sizeof site_code);
        buf_fill(b, INT3, SLOT - sizeof site_code);
    }
    if (im->count == 0)
        buf_fill(b, INT3, SLOT); /* no empty segment */
}

static void build_dynamic(struct image *im)
{
    const Elf64_Dyn entries[DYNAMIC_COUNT] = {
        {DT_HASH, {im->address[S_HASH]}},
        {DT_STRTAB, {im->address[S_DYNSTR]}},
        {DT_SYMTAB, {im->address[S_DYNSYM]}},
        {DT_STRSZ, {im->content[S_DYNSTR].size}},
        {DT_SYMENT, {sizeof(Elf64_Sym)}},
        {DT_NULL, {0}},
    };

    buf_append(&im->content[S_DYNAMIC], entries, sizeof entries);
}

/* One note (<pyprobe/notes.h>): header, owner (with its NUL), the
 * descriptor from `desc`, padded to 4 bytes. */
static void append_note(struct buf *b, const char *owner, uint32_t type, const struct buf *desc)
{
    uint32_t header[3] = {(uint32_t)strlen(owner) + 1, (uint32_t)desc->size, type};

    buf_append(b, header, sizeof header);
    buf_string(b, owner);
    buf_align(b, 4);
    buf_append(b, desc->data, desc->size);
    buf_align(b, 4);
}

static void build_notes(struct image *im)
{
    struct buf desc = {0};
    char args[PYPROBE__RT_IMAGE_ARGS_MAX];

    for (size_t i = 0; i < im->count; i++) {
        const struct pyprobe__rt_image_probe *probe = &im->probes[i];

        desc.size = 0;
        buf_u64(&desc, site_address(im, i));
        buf_u64(&desc, im->address[S_BASE]);
        buf_u64(&desc, semaphore_address(im, i));
        buf_string(&desc, im->provider);
        buf_string(&desc, probe->name);
        pyprobe__rt_image_args(probe->types, probe->arg_count, args);
        buf_string(&desc, args);
        append_note(&im->content[S_STAPSDT], PYPROBE_STAPSDT_OWNER, PYPROBE_STAPSDT_TYPE, &desc);

        desc.size = 0;
        buf_string(&desc, im->provider);
        buf_string(&desc, probe->name);
        for (unsigned a = 0; a < probe->arg_count; a++)
            buf_string(&desc, pyprobe__arg_types[probe->types[a]].c_type);
        append_note(&im->content[S_SIGNATURES], PYPROBE_SIGNATURE_OWNER, PYPROBE_SIGNATURE_TYPE, &desc);
    }
    if (desc.failed)
        im->content[S_STAPSDT].failed = true;
    free(desc.data);
}

static void build_shstrtab(struct image *im)
{
    struct buf *b = &im->content[S_SHSTRTAB];

    buf_string(b, "");
    for (int s = S_NULL + 1; s < S_COUNT; s++)
        im->shstrtab_name[s] = buf_string(b, kinds[s].name);
}

static void free_contents(struct image *im)
{
    for (int s = 0; s < S_COUNT; s++) {
        free(im->content[s].data);
        im->content[s] = (struct buf){0};
    }
}

/* Every section's content from the current addresses: -ENOMEM or 0. */
static int build_contents(struct image *im)
{
    free_contents(im);
    build_symbols(im);
    buf_fill(&im->content[S_BASE], 0, 1);
    build_text(im);
    build_dynamic(im);
    buf_fill(&im->content[S_PROBES], 0, 2 * (im->count ? im->count : 1));
    build_notes(im);
    build_shstrtab(im);
    for (int s = 0; s < S_COUNT; s++)
        if (im->content[s].failed)
            return -ENOMEM;
    return 0;
}

static Elf64_Off align_up(Elf64_Off value, Elf64_Off alignment)
{
    return (value + alignment - 1) / alignment * alignment;
}

/* Offsets (and addresses, the same) from the sizes. */
static void lay_out(struct image *im)
{
    Elf64_Off offset = sizeof(Elf64_Ehdr) + PHDR_COUNT * sizeof(Elf64_Phdr);

    for (int s = S_NULL + 1; s < S_COUNT; s++) {
        if (s == S_TEXT || s == S_DYNAMIC)
            offset = align_up(offset, PAGE); /* a segment starts */
        offset = align_up(offset, kinds[s].align);
        im->address[s] = offset;
        offset += im->content[s].size;
    }
    im->section_headers = align_up(offset, 8);
}

/* ---- writing with libelf ---- */

static Elf64_Phdr segment(Elf64_Word type, Elf64_Word flags, Elf64_Off start, Elf64_Off end, Elf64_Xword align)
{
    Elf64_Phdr p = {.p_type = type, .p_flags = flags, .p_offset = start, .p_vaddr = start,
                    .p_paddr = start, .p_filesz = end - start, .p_memsz = end - start, .p_align = align};
    return p;
}

static Elf64_Off end_of(const struct image *im, enum section s)
{
    return im->address[s] + im->content[s].size;
}

static void fill_program_headers(const struct image *im, Elf64_Phdr *ph)
{
    ph[0] = segment(PT_LOAD, PF_R, 0, end_of(im, S_BASE), PAGE);
    ph[1] = segment(PT_LOAD, PF_R | PF_X, im->address[S_TEXT], end_of(im, S_TEXT), PAGE);
    ph[2] = segment(PT_LOAD, PF_R | PF_W, im->address[S_DYNAMIC], end_of(im, S_PROBES), PAGE);
    ph[3] = segment(PT_DYNAMIC, PF_R | PF_W, im->address[S_DYNAMIC], end_of(im, S_DYNAMIC), 8);
    ph[4] = segment(PT_GNU_STACK, PF_R | PF_W, 0, 0, 16);
}

static void fill_elf_header(const struct image *im, Elf64_Ehdr *eh)
{
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_OSABI] = ELFOSABI_NONE;
    eh->e_type = ET_DYN;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_phoff = sizeof(Elf64_Ehdr);
    eh->e_shoff = im->section_headers;
    eh->e_shstrndx = S_SHSTRTAB;
}

static int add_section(Elf *elf, struct image *im, enum section s)
{
    Elf_Scn *scn = elf_newscn(elf);
    Elf64_Shdr *sh = scn ? elf64_getshdr(scn) : NULL;
    Elf_Data *data = sh ? elf_newdata(scn) : NULL;

    if (!data)
        return -1;
    data->d_buf = im->content[s].data;
    data->d_size = im->content[s].size;
    data->d_type = ELF_T_BYTE;
    data->d_align = kinds[s].align;
    data->d_off = 0;
    data->d_version = EV_CURRENT;
    sh->sh_name = im->shstrtab_name[s];
    sh->sh_type = kinds[s].type;
    sh->sh_flags = kinds[s].flags;
    sh->sh_addr = (kinds[s].flags & SHF_ALLOC) ? im->address[s] : 0;
    sh->sh_offset = im->address[s];
    sh->sh_size = im->content[s].size;
    sh->sh_link = kinds[s].link;
    sh->sh_info = s == S_DYNSYM ? 1 : 0; /* every symbol but the null one is global */
    sh->sh_addralign = kinds[s].align;
    sh->sh_entsize = kinds[s].entsize;
    return 0;
}

static int write_elf(int fd, struct image *im)
{
    Elf *elf = elf_begin(fd, ELF_C_WRITE, NULL);
    Elf64_Ehdr *eh = elf ? elf64_newehdr(elf) : NULL;
    Elf64_Phdr *ph = eh ? elf64_newphdr(elf, PHDR_COUNT) : NULL;
    int rc = ph ? 0 : -1;

    if (ph) {
        fill_elf_header(im, eh);
        fill_program_headers(im, ph);
    }
    for (int s = S_NULL + 1; s < S_COUNT && rc == 0; s++)
        rc = add_section(elf, im, (enum section)s);
    if (rc == 0) {
        elf_flagelf(elf, ELF_C_SET, ELF_F_LAYOUT);
        rc = elf_update(elf, ELF_C_WRITE) < 0 ? -1 : 0;
    }
    elf_end(elf);
    return rc;
}

static pthread_once_t libelf_once = PTHREAD_ONCE_INIT;
static bool libelf_ready;

static void init_libelf(void)
{
    libelf_ready = elf_version(EV_CURRENT) != EV_NONE;
}

int pyprobe__rt_image_write(int fd, const char *provider, const struct pyprobe__rt_image_probe *probes, size_t count,
                   struct pyprobe__rt_image_layout *layout, char *message, size_t message_size)
{
    struct image im = {.provider = provider, .probes = probes, .count = count};
    int rc;

    pthread_once(&libelf_once, init_libelf);
    if (!libelf_ready) {
        snprintf(message, message_size, "libelf: %s", elf_errmsg(-1));
        return -EIO;
    }
    rc = build_contents(&im); /* the sizes */
    if (rc == 0) {
        lay_out(&im);
        rc = build_contents(&im); /* the same sizes, with the addresses */
    }
    if (rc == 0 && write_elf(fd, &im) != 0) {
        snprintf(message, message_size, "libelf: %s", elf_errmsg(-1));
        rc = -EIO;
    }
    if (rc == 0) {
        layout->site_base = im.address[S_TEXT];
        layout->site_stride = SLOT;
        layout->semaphore_base = im.address[S_PROBES];
    }
    free_contents(&im);
    return rc;
}
