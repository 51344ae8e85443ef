/* Every kind of declaration. */
provider mine {
    probe start(void);
    probe provider__x(const char *const name, unsigned);  // two
    probe shapes(const unsigned char *,
                 long long int count /* a name */,
                 struct s *const *items, enum e, volatile int *volatile *p);
    probe twelve(int, int, int, int, int, int, int, int, int, int, int, int);
    probe sized(int8_t, uint16_t, int32_t, uint64_t, uintptr_t, size_t, ssize_t, _Bool, long double);
};
#pragma D attributes Evolving/Evolving/Common provider mine provider
provider other { probe c(uint64_t, char **names, union u *); };
