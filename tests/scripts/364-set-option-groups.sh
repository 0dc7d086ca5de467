# set: letters and -o names in one group (set -euxo pipefail), listings, $-
set -euo pipefail
echo "flags $-"
set -o | grep -E '^(errexit|nounset|pipefail|xtrace|noclobber)'
set +euo pipefail
set -o | grep -E '^(errexit|nounset|pipefail)'
set -Ca
echo "flags $-"
x=1; env | grep '^x='
echo one > clobber.txt 2>/dev/null && echo first-ok
echo two > clobber.txt 2>/dev/null || echo refused
echo three >| clobber.txt && cat clobber.txt
set +Ca
set +o | grep -E 'noclobber|allexport|braceexpand'
[[ -o pipefail ]] || echo "pipefail off"
set -o noglob; echo /bi*; set +o noglob
set -q 2>/dev/null; echo "bad letter $?"
set -o nosuchoption 2>/dev/null; echo "bad name $?"
rm -f clobber.txt
