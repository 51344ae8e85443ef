/* An interpreter's own provider, next to the python one. */
provider mylang {
    probe tick(int);
    probe done();
};
