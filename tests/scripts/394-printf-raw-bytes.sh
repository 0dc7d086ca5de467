# Octal and hex escapes of printf, printf %b and echo -e write single bytes, not
# the UTF-8 encoding of that code point.
printf '\351\n' | od -An -tx1
printf '\xe9\x41\n' | od -An -tx1
echo -e '\0351|\xff' | od -An -tx1
printf '%b\n' '\0351' | od -An -tx1
printf 'caf\303\251\n'
