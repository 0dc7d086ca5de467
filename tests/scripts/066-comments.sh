echo a # comment
# full line
echo b#not-comment
