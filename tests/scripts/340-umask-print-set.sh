# umask: octal and symbolic forms, -S and -p output, errors, subshell scope
umask 022
umask
umask -S
umask 077; umask; umask -S
umask u=rwx,g=rx,o=; umask
umask -p
umask g+w; umask
umask a-w; umask -S
umask -S 027
umask 999; echo "bad octal: $?"
umask 022
(umask 000; umask); umask
