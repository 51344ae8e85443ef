#include "pyprobe.h"

const char *pyprobe_version(void)
{
    return PYPROBE_VERSION_STRING;
}
