int clamp(int v, int lo, int hi);
const char *label(void);
int count_to(int n);
int is_small(int v);
int diff(int a, int b);
int diff_of(int a, int b);
int planted(int v);
