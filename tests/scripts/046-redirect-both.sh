{ echo out; echo err >&2; } &> both.txt
sort both.txt
