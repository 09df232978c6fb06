DROP TABLE invoice_items;
DROP TABLE invoices;
DROP TABLE sites;
DROP TABLE regions;
