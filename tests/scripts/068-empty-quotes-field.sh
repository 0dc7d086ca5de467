set -- "" a ""
echo $#
for x in "" ; do echo "[$x]"; done
