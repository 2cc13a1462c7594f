// The Linux calls Fulcrum's L4 relay makes directly: epoll, eventfd and
// accept4. Swift's Glibc module leaves out <sys/epoll.h> and hides accept4
// behind _GNU_SOURCE, and epoll_event is packed on x86_64, so these wrappers
// take and return plain integers.
#ifndef CFULCRUM_LINUX_H
#define CFULCRUM_LINUX_H

#include <stdint.h>
#include <sys/socket.h>

extern const uint32_t cfulcrum_EPOLLIN;
extern const uint32_t cfulcrum_EPOLLOUT;
extern const uint32_t cfulcrum_EPOLLRDHUP;
extern const uint32_t cfulcrum_EPOLLERR;
extern const uint32_t cfulcrum_EPOLLHUP;
extern const uint32_t cfulcrum_EPOLLET;
extern const uint32_t cfulcrum_EPOLLEXCLUSIVE;

/// epoll_create1(EPOLL_CLOEXEC).
int cfulcrum_epoll_create(void);

/// EPOLL_CTL_ADD of `fd` with `events` and `data`.
int cfulcrum_epoll_add(int epfd, int fd, uint32_t events, uint64_t data);

/// EPOLL_CTL_DEL of `fd`.
int cfulcrum_epoll_del(int epfd, int fd);

/// epoll_wait into two parallel arrays (at most 256 events).
int cfulcrum_epoll_wait(int epfd, uint32_t *events, uint64_t *data, int max, int timeout_ms);

/// eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC).
int cfulcrum_eventfd(void);

/// accept4(..., SOCK_NONBLOCK | SOCK_CLOEXEC).
int cfulcrum_accept(int fd, struct sockaddr *address, socklen_t *length);

/// Names the calling thread (at most 15 bytes are kept), for top -H and perf.
void cfulcrum_name_thread(const char *name);

#endif
