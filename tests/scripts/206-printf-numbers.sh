printf '%+d % d %d\n' 5 5 -5
printf '%.2f %8.3f %e\n' 3.14159 2.5 12345.678
printf '%.3s|\n' abcdef
printf '%c%c\n' hello world
printf '%d\n' "'A"
