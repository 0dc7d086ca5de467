echo $'tab\there' | tr '\t' '_'
echo $'line1\nline2'
echo $'\x41\102'
