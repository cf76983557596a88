export const CUSTOMER_STREAM_PREFIX = 'customer-';
export const COMPLAINT_STREAM_PREFIX = 'complaint-';
export const ORDER_STREAM_PREFIX = 'order-';

export const customerStream = (customerId: string): string => CUSTOMER_STREAM_PREFIX + customerId;
export const complaintStream = (complaintId: string): string => COMPLAINT_STREAM_PREFIX + complaintId;
export const orderStream = (orderId: string): string => ORDER_STREAM_PREFIX + orderId;
