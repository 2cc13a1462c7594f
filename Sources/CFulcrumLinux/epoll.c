#define _GNU_SOURCE
#include "CFulcrumLinux.h"

#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

const uint32_t cfulcrum_EPOLLIN = EPOLLIN;
const uint32_t cfulcrum_EPOLLOUT = EPOLLOUT;
const uint32_t cfulcrum_EPOLLRDHUP = EPOLLRDHUP;
const uint32_t cfulcrum_EPOLLERR = EPOLLERR;
const uint32_t cfulcrum_EPOLLHUP = EPOLLHUP;
const uint32_t cfulcrum_EPOLLET = EPOLLET;
const uint32_t cfulcrum_EPOLLEXCLUSIVE = EPOLLEXCLUSIVE;

int cfulcrum_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int cfulcrum_epoll_add(int epfd, int fd, uint32_t events, uint64_t data) {
    struct epoll_event event = {.events = events, .data.u64 = data};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}

int cfulcrum_epoll_del(int epfd, int fd) {
    struct epoll_event event = {0};
    return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &event);
}

int cfulcrum_epoll_wait(int epfd, uint32_t *events, uint64_t *data, int max, int timeout_ms) {
    struct epoll_event ready[256];
    if (max > 256) max = 256;
    int count = epoll_wait(epfd, ready, max, timeout_ms);
    for (int i = 0; i < count; i++) {
        events[i] = ready[i].events;
        data[i] = ready[i].data.u64;
    }
    return count;
}

int cfulcrum_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int cfulcrum_accept(int fd, struct sockaddr *address, socklen_t *length) {
    return accept4(fd, address, length, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

void cfulcrum_name_thread(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof truncated - 1);
    truncated[sizeof truncated - 1] = 0;
    pthread_setname_np(pthread_self(), truncated);
}
