outer() { inner() { echo inner-called; }; inner; }
outer
inner
