/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMM_VIRTIO_BLK_H
#define VMM_VIRTIO_BLK_H
#endif
