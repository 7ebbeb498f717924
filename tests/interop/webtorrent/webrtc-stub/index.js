// No WebRTC: simple-peer imports these names, and WebTorrent only uses them for WebRTC
// peers, which the interop tests never make (TCP peers only).
export const RTCPeerConnection = undefined;
export const RTCSessionDescription = undefined;
export const RTCIceCandidate = undefined;
export default {};
