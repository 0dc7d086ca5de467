f() { :; }
command -v f
command -v if
