#define X int
provider p { probe x(X); }; /* open