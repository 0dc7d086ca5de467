# Assignments: tilde after ':' (also in declaration builtins' arguments, which are
# not split), IFS delimiters mixing whitespace and other characters, the words of
# ${x:-w} split on IFS, empty arrays under ${a[@]-x}, "${!p@}", nocasematch in ${v//p/r}.
HOME=/some/dir
x=~/a:~/b; echo "$x"
PATH_LIKE=/usr/bin:~:/bin:~/local; echo "$PATH_LIKE"
v="a b"; export T=$v; echo "$T"
f() { local l=$1 m=~/x:~/y; echo "$l|$m"; }; f "one two"
np=(/first/bin /usr/bin)
IFS=:
export TP=${np[*]}; echo "[$TP]"
set -- ${unset:-a:b:c}; echo "count $#"
IFS=' :'
var="one:two  three : four"; set -- $var; echo "count $#: $*"
var="one :two: "; set -- $var; echo "count $#: $*"
IFS=$' \t\n'
empty=(); full=(x)
echo "[${empty[@]+ALT}] [${empty[@]-DEF}] [${full[@]+ALT}] [${full[@]-DEF}]"
pre1=a pre2=b
for n in "${!pre@}"; do echo "name $n"; done
s="That is not all"
shopt -s nocasematch; echo "${s//NOT }"; shopt -u nocasematch; echo "${s//NOT }"
