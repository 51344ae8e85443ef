/* digit.h - the value of one digit of base 2 to 16, for the readers that
 * parse numbers themselves (the D lexer, bpftrace's escapes). */
#ifndef PYPROBE_COMMON_DIGIT_H
#define PYPROBE_COMMON_DIGIT_H

/* Above every base: a character that is no digit fails `value < base`. */
#define PYPROBE__NOT_A_DIGIT 99

/* 0-9 for '0'-'9', 10-15 for 'a'-'f' and 'A'-'F', else PYPROBE__NOT_A_DIGIT. */
static inline int pyprobe__digit_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return PYPROBE__NOT_A_DIGIT;
}

#endif /* PYPROBE_COMMON_DIGIT_H */
