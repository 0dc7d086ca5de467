mkdir -p dir/sub
cd dir/sub
case $(pwd) in */dir/sub) echo ok ;; esac
cd ..
basename "$(pwd)"
cd -  > /dev/null
basename "$PWD"
