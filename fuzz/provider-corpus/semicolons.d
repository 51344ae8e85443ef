provider mine {
  probe tick(int)
  probe tock(int);
}
