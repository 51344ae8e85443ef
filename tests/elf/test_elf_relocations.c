/*
 * A program linked against libpyprobe.so copies no semaphore into itself
 * (an R_X86_64_COPY relocation), and reaches each through the GOT. Read
 * with libelf directly: relocations are nothing the reader (src/elf) reads.
 *
 *   test_elf_relocations PROVIDER PROGRAM
 */
#include "elf_test.h"
#include "test_run.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *provider, *file_path;

#define MAX_RELOCATIONS 1024

static struct relocation {
    uint32_t type;
    char symbol[128];
} relocations[MAX_RELOCATIONS];
static int relocation_count;

static void add_relocation(Elf *elf, Elf_Data *symbols, size_t names, uint64_t info)
{
    struct relocation *r = &relocations[relocation_count++];
    GElf_Sym sym;
    const char *name = NULL;

    ck_assert_int_le(relocation_count, MAX_RELOCATIONS);
    if (symbols && GELF_R_SYM(info) != 0 && gelf_getsym(symbols, (int)GELF_R_SYM(info), &sym))
        name = elf_strptr(elf, names, sym.st_name);
    r->type = (uint32_t)GELF_R_TYPE(info);
    snprintf(r->symbol, sizeof r->symbol, "%s", name ? name : "");
}

/* Adds the entries of one SHT_REL or SHT_RELA section. */
static void add_relocations(Elf *elf, Elf_Scn *scn, const GElf_Shdr *shdr)
{
    Elf_Data *data = elf_getdata(scn, NULL);
    Elf_Scn *symtab = elf_getscn(elf, shdr->sh_link);
    GElf_Shdr symtab_shdr;
    Elf_Data *symbols = symtab && gelf_getshdr(symtab, &symtab_shdr) ? elf_getdata(symtab, NULL) : NULL;

    ck_assert_ptr_nonnull(data);
    for (size_t n = 0; n < shdr->sh_size / shdr->sh_entsize; n++) {
        GElf_Rela rela;
        GElf_Rel rel;

        if (shdr->sh_type == SHT_RELA)
            ck_assert_ptr_nonnull(gelf_getrela(data, (int)n, &rela));
        else
            ck_assert_ptr_nonnull(gelf_getrel(data, (int)n, &rel));
        add_relocation(elf, symbols, symbols ? symtab_shdr.sh_link : 0,
                       shdr->sh_type == SHT_RELA ? rela.r_info : rel.r_info);
    }
}

static void load_relocations(void)
{
    int fd = open(file_path, O_RDONLY | O_CLOEXEC);
    Elf *elf;
    Elf_Scn *scn = NULL;
    GElf_Ehdr ehdr;
    GElf_Shdr shdr;

    ck_assert_msg(fd >= 0, "%s: %s", file_path, strerror(errno));
    ck_assert_uint_ne(elf_version(EV_CURRENT), EV_NONE);
    elf = elf_begin(fd, ELF_C_READ, NULL);
    ck_assert_ptr_nonnull(elf);
    ck_assert_ptr_nonnull(gelf_getehdr(elf, &ehdr));
    ck_assert_int_eq(ehdr.e_machine, EM_X86_64); /* the relocation types below */
    relocation_count = 0;
    while ((scn = elf_nextscn(elf, scn)) != NULL) {
        ck_assert_ptr_nonnull(gelf_getshdr(scn, &shdr));
        if ((shdr.sh_type == SHT_RELA || shdr.sh_type == SHT_REL) && shdr.sh_entsize != 0)
            add_relocations(elf, scn, &shdr);
    }
    elf_end(elf);
    close(fd);
}

/* A copied semaphore is one the kernel never raises: the guard would stay
 * off under a tracer. pyprobe.h reads semaphores through the GOT for this.
 * (Other data, such as libc's stderr, may well be copied into a PIE.) */
static bool is_semaphore(const char *symbol)
{
    size_t length = strlen(symbol), suffix = strlen("_semaphore");

    return length > suffix && strcmp(symbol + length - suffix, "_semaphore") == 0;
}

START_TEST(no_semaphore_is_copy_relocated)
{
    for (int i = 0; i < relocation_count; i++)
        ck_assert_msg(relocations[i].type != R_X86_64_COPY || !is_semaphore(relocations[i].symbol),
                      "%s: R_X86_64_COPY of %s", file_path, relocations[i].symbol);
}
END_TEST

/* So that the test above looks at the right thing: the program does reach
 * every semaphore of the library, through a GOT entry. */
START_TEST(program_reaches_every_semaphore_through_the_got)
{
    for (int p = 0; p < COUNT(python_d); p++) {
        char symbol[128];
        int got = 0;

        snprintf(symbol, sizeof symbol, "%s_%s_semaphore", provider, python_d[p].name);
        for (int i = 0; i < relocation_count; i++)
            got += strcmp(relocations[i].symbol, symbol) == 0 && relocations[i].type == R_X86_64_GLOB_DAT;
        ck_assert_msg(got == 1, "%s: %d R_X86_64_GLOB_DAT of %s", file_path, got, symbol);
    }
}
END_TEST

int main(int argc, char **argv)
{
    const struct test_entry tests[] = {
        {no_semaphore_is_copy_relocated, 0},
        {program_reaches_every_semaphore_through_the_got, 0},
    };

    if (!test_arguments(argc, argv, "PROVIDER PROGRAM", 2, 2, (const char **const[]){&provider, &file_path}))
        return 2;
    return test_run_suite(test_suite("elf_relocations", load_relocations, NULL, tests, COUNT(tests)));
}
