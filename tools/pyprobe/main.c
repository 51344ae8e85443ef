/* pyprobe: list the USDT probes of ELF files and processes, as dtrace -l. */
#include "cli.h"

int main(int argc, char **argv)
{
    return pyprobe_cli_main(argc, argv);
}
