// epoll, for traverse-bench's many-swarm client driver (Linux only): Glibc's Swift module
// does not include <sys/epoll.h>.
#include <sys/epoll.h>
