// Public surface of the domain library: events, commands, deciders and policies. Pure code only.

export { DomainError, DOMAIN_ERROR_CODES, isDomainErrorCode } from './shared/domain-error';
export type { DomainErrorCode } from './shared/domain-error';
export { fold } from './shared/decider';
export type { Decider } from './shared/decider';
export {
  MAX_SCALE,
  MIN_PARSED_SCALE,
  add,
  assertMoney,
  formatMoney,
  multiply,
  parseMoney,
  rescale,
  subtract,
  sumMoney,
  zero,
} from './shared/money';
export type { Money } from './shared/money';
export { CHANNELS, CONTACT_PURPOSES, CUSTOMER_KINDS, DIRECTIONS, PRIORITIES } from './shared/types';
export type { Channel, ContactPurpose, CustomerKind, Direction, Priority } from './shared/types';
export {
  COMPLAINT_STREAM_PREFIX,
  CUSTOMER_STREAM_PREFIX,
  ORDER_STREAM_PREFIX,
  complaintStream,
  customerStream,
  orderStream,
} from './shared/stream-names';
export { addMinutes, normalizeInstant, parseInstant } from './shared/instant';

export { CUSTOMER_EVENT_TYPES } from './customer/customer-events';
export type {
  ContactLogged,
  ContactPreferencesSet,
  CustomerEvent,
  CustomerEventType,
  CustomerOwnerAssigned,
  CustomerProfileChanged,
  CustomerRegistered,
  FollowUpCancelled,
  FollowUpCompleted,
  FollowUpScheduled,
  ProspectConverted,
} from './customer/customer-events';
export type {
  AssignCustomerOwner,
  CancelFollowUp,
  ChangeCustomerProfile,
  CompleteFollowUp,
  ConvertProspect,
  CustomerCommand,
  CustomerCommandType,
  LinkedComplaint,
  LogContact,
  RegisterCustomer,
  ScheduleFollowUp,
  SetContactPreferences,
} from './customer/customer-commands';
export { DEFAULT_CONTACT_PREFERENCES, evolveCustomer, initialCustomerState } from './customer/customer-state';
export type {
  ContactPreferences,
  CustomerState,
  FollowUp,
  FollowUpStatus,
  OutboundContact,
  RegisteredCustomer,
  UnregisteredCustomer,
} from './customer/customer-state';
export {
  CONTACT_CAP_RULES,
  DEFAULT_CONTACT_CAP_POLICY,
  evaluateOutboundContact,
  validateContactCapPolicy,
} from './customer/contact-cap-policy';
export type { ContactCapPolicy, ContactCapRule, ContactDecision, ProposedContact } from './customer/contact-cap-policy';
export { makeCustomerDecider } from './customer/customer-decider';
export type { CustomerDecider } from './customer/customer-decider';

export { COMPLAINT_EVENT_TYPES, SLA_KINDS } from './complaint/complaint-events';
export type {
  ComplaintAwaitingCustomer,
  ComplaintClosed,
  ComplaintEscalated,
  ComplaintPriorityChanged,
  ComplaintResumed,
  ResumeTrigger,
  SlaEscalationDue,
  ComplaintEvent,
  ComplaintEventType,
  ComplaintFiled,
  ComplaintOwnerChanged,
  ComplaintReopened,
  ComplaintResolved,
  ComplaintResponded,
  SlaBreached,
  SlaDeadlines,
  SlaKind,
} from './complaint/complaint-events';
export type {
  AwaitCustomer,
  ChangeComplaintPriority,
  RecordSlaEscalations,
  ResumeComplaint,
  ChangeComplaintOwner,
  CloseComplaint,
  ComplaintCommand,
  ComplaintCommandType,
  FileComplaint,
  RecordSlaBreach,
  ReopenComplaint,
  ResolveComplaint,
  RespondToComplaint,
} from './complaint/complaint-commands';
export { evolveComplaint, initialComplaintState } from './complaint/complaint-state';
export type {
  ComplaintState,
  ComplaintStatus,
  FiledComplaintState,
  NoComplaint,
  RecordedSlaBreach,
} from './complaint/complaint-state';
export {
  DEFAULT_SLA_POLICY,
  computeReopenedResolutionDueAt,
  computeSlaDeadlines,
  fixedSlaPolicyBook,
  SLA_PAUSE_STATES,
} from './complaint/sla-policy';
export { checkSlaPolicy, validateSlaPolicy } from './complaint/sla-policy-validation';
export type { SlaPolicyCheck, SlaPolicyCheckOptions, SlaPolicyProblem } from './complaint/sla-policy-validation';
export type { SlaEscalationStep, SlaPauseState, SlaPolicy, SlaPolicyBook, SlaTarget } from './complaint/sla-policy';
export { clockDueAt, escalationSchedule, pausedSlaMinutes, pauseStopsClocks, recomputeSla } from './complaint/sla-schedule';
export type { SlaClocks, SlaPause } from './complaint/sla-schedule';
export { addSlaMinutes, isKnownTimezone, parseWallTime, slaMinutesBetween, WEEKDAYS } from './complaint/sla-clock';
export type { BusinessCalendar, BusinessInterval, SlaCalendarKind, Weekday } from './complaint/sla-clock';
export { makeVersionedPolicyDecider } from './policy/versioned-policy';
export type { PolicyPublished, PolicyStreamState, PublishedPolicy, PublishPolicy, VersionedPolicy } from './policy/versioned-policy';
export { makeSlaPolicyDecider, SLA_POLICIES_STREAM, SLA_POLICY_EVENT_TYPES } from './complaint/sla-policy-publishing';
export type { PublishSlaPolicy, SlaPolicyDecider, SlaPolicyPublished, SlaPolicyStreamState } from './complaint/sla-policy-publishing';
export { RESOLVED_AT_FIRST_CONTACT, makeComplaintDecider } from './complaint/complaint-decider';
export type { ComplaintDecider } from './complaint/complaint-decider';

export { ORDER_EVENT_TYPES } from './order/order-events';
export type { OrderEvent, OrderEventType, PurchaseLine, PurchaseRecorded, ReturnLine, ReturnRecorded } from './order/order-events';
export type { OrderCommand, OrderCommandType, RecordPurchase, RecordReturn } from './order/order-commands';
export { allocateReturn, evolveOrder, initialOrderState, returnableQuantity } from './order/order-state';
export type { NoOrder, OrderLineState, OrderState, RecordedOrderState, ReturnPortion } from './order/order-state';
export { orderDecider } from './order/order-decider';
export type { OrderDecider } from './order/order-decider';

export { DEFAULT_LOYALTY_POLICY, pointsFor, purchaseIntervals, quintileScore, tierFor } from './loyalty/loyalty-policy';
export type { LoyaltyPolicy, PurchaseIntervals } from './loyalty/loyalty-policy';

export { CURRENT_SCHEMA_VERSIONS, EVENT_UPCASTERS, schemaVersionOf } from './schema-versions';
export { ERASED, mapPersonalData, mapPersonalDataLazily, PERSONAL_FIELDS, REDACTED, redactPersonalData } from './personal-data';
