# the mask reaches new files: programs (touch, mkdir) and the shell's redirections
umask 022
touch open.txt; mkdir opendir; echo x > open-redir.txt
umask 077
touch secret.txt; mkdir secretdir; echo x > secret-redir.txt; echo y >> secret-append.txt
echo again > open-redir.txt
ls -ld open.txt opendir open-redir.txt secret.txt secretdir secret-redir.txt secret-append.txt | cut -c1-10
umask 0
echo z > all.txt; ls -l all.txt | cut -c1-10
