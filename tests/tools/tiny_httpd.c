/* tiny_httpd: a loopback HTTP/1.1 server for make bench's throughput
 * comparison, answering every request at once with the same 2-byte body on
 * a kept-alive connection. One thread, epoll, no parsing beyond finding
 * the blank line that ends each request head: it costs a few microseconds
 * of CPU a request, so the load generators, not the server, set the pace
 * (a Python asyncio server needs a whole core for half of what wrk can
 * send). Prints its port on stdout, then serves until killed. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FD 65536
#define EVENTS 256

static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n42";

/* Per connection: how much of "\r\n\r\n" the bytes read so far end with. */
static unsigned char matched[MAX_FD];

static int listen_loopback(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1024) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		perror("tiny_httpd");
		exit(2);
	}
	printf("%d\n", ntohs(a.sin_port));
	fflush(stdout);
	return fd;
}

static void accept_all(int ep, int lfd)
{
	int fd, one = 1;
	while ((fd = accept(lfd, NULL, NULL)) >= 0) {
		if (fd >= MAX_FD) {
			close(fd);
			continue;
		}
		fcntl(fd, F_SETFL, O_NONBLOCK);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		matched[fd] = 0;
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
}

/* How many request heads end in p[0, n), carrying the match across reads. */
static int heads_ended(int fd, const char *p, ssize_t n)
{
	static const char end[] = "\r\n\r\n";
	int heads = 0;
	unsigned m = matched[fd];
	for (ssize_t i = 0; i < n; i++) {
		m = p[i] == end[m] ? m + 1 : (p[i] == '\r' ? 1 : 0);
		if (m == 4) {
			heads++;
			m = 0;
		}
	}
	matched[fd] = (unsigned char)m;
	return heads;
}

/* Answer what arrived; a short write only happens to a client that does not
 * read, which this server has no use for. */
static void serve(int fd)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	int heads = n > 0 ? heads_ended(fd, buf, n) : 0;
	for (int i = 0; i < heads && n > 0; i++)
		if (write(fd, answer, sizeof(answer) - 1) != (ssize_t)sizeof(answer) - 1)
			n = 0;
	if (n <= 0)
		close(fd);
}

int main(void)
{
	int lfd = listen_loopback(), ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	struct epoll_event evs[EVENTS];
	for (;;) {
		int n = epoll_wait(ep, evs, EVENTS, -1);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == lfd)
				accept_all(ep, lfd);
			else
				serve(evs[i].data.fd);
		}
	}
}
