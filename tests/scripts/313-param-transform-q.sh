v="it's here"
echo ${v@Q}
