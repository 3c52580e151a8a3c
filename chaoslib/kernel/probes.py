"""Tiny Python scripts a probe runs as another party (a user, a container): connect, time a connect, write."""
from __future__ import annotations

#: argv: HOST PORT N. Prints how many of N TCP connects failed.
CONNECT = ("import socket,sys\nhost,port,n=sys.argv[1],int(sys.argv[2]),int(sys.argv[3])\nf=0\n"
           "for _ in range(n):\n s=socket.socket(); s.settimeout(0.3)\n"
           " try: s.connect((host,port))\n except OSError: f+=1\n finally: s.close()\nprint(f)")
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
