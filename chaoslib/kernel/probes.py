"""Tiny Python scripts a probe runs as another party (a user, a container): connect, time a connect, write;
and the version a replica reports to its scraper."""
from __future__ import annotations

import re
import urllib.request

#: argv: HOST PORT N. Prints how many of N TCP connects failed (no handshake within 0.3 s, or refused).
#: The connects go out 100 at a time, non-blocking: a thousand take about 3 s, enough attempts for bounds
#: that tell neighbouring difficulty bands apart. 0.3 s is under the SYN's first retransmission (1 s),
#: so each attempt is one SYN and one draw of a loss rule.
CONNECT = ("import errno,selectors,socket,sys,time\nhost,port,n=sys.argv[1],int(sys.argv[2]),int(sys.argv[3])\n"
           "f=0\nleft=n\nwhile left:\n k=min(left,100); left-=k; sel=selectors.DefaultSelector(); socks=[]\n"
           " for _ in range(k):\n  s=socket.socket(); s.setblocking(False); socks.append(s)\n"
           "  e=s.connect_ex((host,port))\n"
           "  if e==errno.EINPROGRESS: sel.register(s,selectors.EVENT_WRITE)\n  elif e: f+=1\n"
           " pending=len(sel.get_map()); end=time.monotonic()+0.3\n"
           " while pending and end>time.monotonic():\n"
           "  for key,_ in sel.select(max(0.0,end-time.monotonic())):\n"
           "   sel.unregister(key.fileobj); pending-=1\n"
           "   if key.fileobj.getsockopt(socket.SOL_SOCKET,socket.SO_ERROR): f+=1\n"
           " f+=pending; sel.close()\n for s in socks: s.close()\nprint(f)")
#: argv: HOST PORT N. Median seconds a TCP connect takes (the handshake carries any added latency).
CONNECT_TIME = ("import socket,statistics,sys,time\nhost,port,n=sys.argv[1],int(sys.argv[2]),int(sys.argv[3])\nts=[]\n"
                "for _ in range(n):\n s=socket.socket(); s.settimeout(5); t=time.monotonic()\n"
                " try: s.connect((host,port)); ts.append(time.monotonic()-t)\n except OSError: pass\n"
                " finally: s.close()\nprint(statistics.median(ts) if ts else -1)")
#: argv: FOLDER. Writes and removes 64 KiB there; prints ok, or the errno of the failure.
WRITE = ("import os,sys\np=os.path.join(sys.argv[1],'.probe-write')\n"
         "try:\n fd=os.open(p,os.O_WRONLY|os.O_CREAT|os.O_TRUNC,0o600)\n"
         " try:\n  os.write(fd,b'x'*65536); os.fsync(fd)\n finally:\n  os.close(fd); os.unlink(p)\n print('ok')\n"
         "except OSError as e:\n print(e.errno)")


def reported_version(base_url: str) -> str | None:
    """The version label of pollapp_build_info on `base_url`/metrics, as Prometheus scrapes it (None: no answer)."""
    try:
        text = urllib.request.urlopen(f"{base_url}/metrics", timeout=3).read().decode()
    except OSError:
        return None
    found = re.findall(r'^pollapp_build_info\{[^}]*version="([^"]+)"', text, re.M)
    return found[0] if len(found) == 1 else None
