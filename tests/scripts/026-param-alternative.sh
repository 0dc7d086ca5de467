x=set
echo "${x:+alt}" "[${unset_var:+alt}]"
