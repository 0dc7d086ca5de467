f() {
  cat <<-EOT
	indented body $1
	EOT
}
f arg
