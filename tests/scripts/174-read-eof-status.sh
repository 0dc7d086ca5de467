printf 'no newline' | { read v; echo "st=$? v=$v"; }
read v < /dev/null; echo "empty st=$?"
