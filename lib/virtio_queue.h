/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMM_VIRTIO_QUEUE_H
#define VMM_VIRTIO_QUEUE_H
#endif
