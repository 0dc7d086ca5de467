/* Opens relative paths the way C programs do (stdio, POSIX), so that a run in a
 * wsh container after WORKDIR can be compared with a native run in the same tree.
 * argv[1] is an absolute path to read as well. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void show(const char *path) {
    char line[256];
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("%s: %s\n", path, strerror(errno));
        return;
    }
    while (fgets(line, sizeof line, f))
        printf("%s: %s", path, line);
    fclose(f);
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
    show("data.txt");
    show("./data.txt");
    show("sub/nested.txt");
    show("sub/../data.txt");
    show("missing.txt");
    if (argc > 1)
        show(argv[1]);
    FILE *out = fopen("out-c.txt", "w");
    if (!out) {
        perror("out-c.txt");
        return 1;
    }
    fputs("written by C\n", out);
    fclose(out);
    show("out-c.txt");
    if (mkdir("made-c", 0755) != 0)
        perror("mkdir made-c");
    out = fopen("made-c/inside", "w");
    if (out)
        fclose(out);
    struct stat st;
    if (stat("data.txt", &st) == 0)
        printf("data.txt: %lld bytes\n", (long long)st.st_size);
    DIR *d = opendir("made-c");
    if (!d) {
        perror("opendir made-c");
        return 1;
    }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64)
        if (e->d_name[0] != '.')
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof names[0], by_name);
    for (int i = 0; i < n; i++)
        printf("made-c/%s\n", names[i]);
    return 0;
}
