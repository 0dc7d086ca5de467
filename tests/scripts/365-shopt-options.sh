# shopt: listings (-p, -s, -q), and the glob and matching options
shopt -p nullglob extglob
shopt -s nullglob; shopt -p nullglob; shopt -q nullglob && echo "q on"
mkdir -p sg/d1/d2 && touch sg/a.txt sg/B.TXT sg/.hidden sg/d1/x.txt sg/d1/d2/y.txt
echo sg/*.none "end"
shopt -u nullglob
echo sg/*.none
shopt -s dotglob; echo sg/*; shopt -u dotglob; echo sg/*
shopt -s nocaseglob; echo sg/*.txt; shopt -u nocaseglob
shopt -s globstar; echo sg/**/*.txt; echo sg/**; shopt -u globstar
shopt -s nocasematch; case ABC in abc) echo "case nocase";; esac; [[ XyZ == xyz ]] && echo "[[ nocase"; shopt -u nocasematch
shopt -s failglob; echo sg/*.none; echo "status $?"; shopt -u failglob
shopt -s | head -3
shopt -o errexit
shopt nosuch 2>/dev/null; echo "bad $?"
rm -rf sg
