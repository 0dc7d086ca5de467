#!/bin/sh
# Word statistics over a text file, with the wsh userland only.
# Usage: ./report.sh FILE
file=${1:-/srv/app/words.txt}
echo "lines: $(wc -l < "$file")"
echo "words: $(wc -w < "$file")"
echo "top words:"
tr ' ' '\n' < "$file" | sort | uniq -c | sort -rn | head -3
