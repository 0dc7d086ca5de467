echo a >| clob.txt
cat clob.txt
