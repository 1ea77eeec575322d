#!/usr/bin/env python3
"""Give dummy_hcd isochronous IN transfers, for the virtual Pi's USB sound card test.

Usage: dummy-hcd-iso.py dummy_hcd.c   (patched in place; tools/lib/vm.sh builds it)

Debian's dummy_hcd (linux-source-6.12) joins a gadget to a host controller in
software but leaves its -iso endpoints out and fails every isochronous URB, and UAC2
streams only over isochronous endpoints. This adds the smallest model that carries a
gadget's isochronous IN stream to the host: the -iso endpoints are listed again, and
each 1 ms frame of the controller's timer moves one packet of an IN URB from the
gadget's first queued request (a packet with nothing queued is empty, as a device that
has no data sends a zero-length packet); the URB completes when its last packet is
done, and its endpoint waits for the next frame before the next URB. OUT iso URBs fail
as before. Any anchor not found is an error: a changed source is never half-patched.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ISO_CASE = '''		case PIPE_ISOCHRONOUS:
			/* capstan: IN only, one packet per frame from the first queued request */
			if (!usb_urb_dir_in(urb) || !urb->number_of_packets) {
				status = -EINVAL;
				break;
			}
			{
				struct usb_iso_packet_descriptor *d =
					&urb->iso_frame_desc[urbp->iso_next];
				unsigned int len = 0;

				req = list_first_entry_or_null(&ep->queue,
						struct dummy_request, queue);
				if (req) {
					len = min_t(unsigned int, d->length,
						req->req.length - req->req.actual);
					memcpy(urb->transfer_buffer + d->offset,
						req->req.buf + req->req.actual, len);
					req->req.actual += len;
					req->req.status = 0;
					list_del_init(&req->queue);
					spin_unlock(&dum->lock);
					usb_gadget_giveback_request(&ep->ep, &req->req);
					spin_lock(&dum->lock);
				}
				d->actual_length = len;
				d->status = 0;
				urb->actual_length += len;
				ep->last_io = jiffies;
				if (++urbp->iso_next >= urb->number_of_packets)
					status = 0;
			}
			break;
'''


def patch(src: str) -> str:
    steps = [
        # the -iso endpoints, commented out upstream
        (re.compile(r'/\*\n(\tEP_INFO\("ep\d+in-iso",\n[^\n]*\n\tEP_INFO\("ep\d+out-iso",\n'
                    r'[^\n]*\n)\*/\n'), r"\1", 3),
        (re.compile(r"(\tu32\t\t\tmiter_started;\n)"), r"\1\tint\t\t\tiso_next;\n", 1),
        (re.compile(r"(\turbp->miter_started = 0;\n)"), r"\1\turbp->iso_next = 0;\n", 1),
        (re.compile(r"\t\tcase PIPE_ISOCHRONOUS:\n.*?status = -EINVAL;\t/\* fail all xfers \*/\n"
                    r"\t\t\tbreak;\n", re.S), ISO_CASE.replace("\\", "\\\\"), 1),
        # an iso endpoint's next URB waits for the next frame
        (re.compile(r"(return_urb:\n\t\tlist_del\(&urbp->urbp_list\);\n\t\tkfree\(urbp\);\n)"
                    r"\t\tif \(ep\)\n"),
         r"\1\t\tif (ep && usb_pipetype(urb->pipe) != PIPE_ISOCHRONOUS)\n", 1),
    ]
    for pattern, repl, count in steps:
        src, n = pattern.subn(repl, src)
        if n != count:
            raise SystemExit(f"dummy_hcd.c changed: {pattern.pattern[:60]!r} matched {n} "
                             f"times, not {count}: cannot patch it")
    return src


if __name__ == "__main__":
    path = Path(sys.argv[1])
    path.write_text(patch(path.read_text()))
