	cat <<-EOF
	tabs stripped
		more
	EOF
