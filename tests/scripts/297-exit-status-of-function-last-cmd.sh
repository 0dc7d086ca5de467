f() { false; }
f; echo $?
g() { false; true; }
g; echo $?
