package org.vdmount.formats.parallels;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.vdmount.formats.ImageException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;
import org.xml.sax.helpers.DefaultHandler;

/**
 * The DiskDescriptor.xml of a Parallels bundle (a .hdd directory): the disk's size, its storages
 * (stretches of the disk, each with one image file per snapshot) and the snapshot tree. Parsed
 * with no DTD and no external entities: the file may be hostile.
 */
record DiskDescriptor(long diskSectors, List<StorageEntry> storages, List<Shot> shots, String topGuid) {
    /** Real descriptors are a few KiB. */
    static final int MAX_BYTES = 1 << 20;
    static final String ZERO_GUID = "00000000-0000-0000-0000-000000000000";

    /** A stretch [start, end) of the disk in sectors, and the image holding it in each snapshot. */
    record StorageEntry(long start, long end, List<ImageEntry> images) {
    }

    /** One image: the snapshot it belongs to, "Compressed" (expanding) or "Plain", and its file. */
    record ImageEntry(String guid, String type, String file) {
    }

    record Shot(String guid, String parent) {
    }

    static DiskDescriptor parse(byte[] xml, String file) throws ImageException {
        Document doc;
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setXIncludeAware(false);
            f.setExpandEntityReferences(false);
            DocumentBuilder builder = f.newDocumentBuilder();
            builder.setErrorHandler(new DefaultHandler()); // errors thrown, never printed
            doc = builder.parse(new ByteArrayInputStream(xml));
        } catch (ParserConfigurationException | SAXException | IOException e) {
            throw new ImageException(file, "DiskDescriptor.xml cannot be parsed: " + oneLine(e.getMessage()));
        }
        Element root = doc.getDocumentElement();
        if (!root.getTagName().equals("Parallels_disk_image")) {
            throw new ImageException(file, "not a Parallels disk descriptor (root element " + root.getTagName() + ")");
        }
        long size = number(text(child(root, "Disk_Parameters"), "Disk_size"), "Disk_size", file);
        List<StorageEntry> storages = new ArrayList<>();
        Element data = child(root, "StorageData");
        for (Element s : children(data, "Storage")) {
            List<ImageEntry> images = new ArrayList<>();
            for (Element i : children(s, "Image")) {
                images.add(new ImageEntry(guid(text(i, "GUID")), text(i, "Type"), text(i, "File")));
            }
            storages.add(new StorageEntry(number(text(s, "Start"), "Start", file), number(text(s, "End"), "End", file),
                    images));
        }
        List<Shot> shots = new ArrayList<>();
        Element snapshots = child(root, "Snapshots");
        String top = null;
        if (snapshots != null) {
            for (Element shot : children(snapshots, "Shot")) {
                shots.add(new Shot(guid(text(shot, "GUID")), guid(text(shot, "ParentGUID"))));
            }
            String t = text(snapshots, "TopGUID");
            top = t == null ? null : guid(t);
        }
        return new DiskDescriptor(size, storages, shots, top);
    }

    /** "{5FBA...}" and "5fba..." name the same snapshot. */
    static String guid(String text) {
        if (text == null) {
            return null;
        }
        String t = text.strip().toLowerCase(Locale.ROOT);
        if (t.startsWith("{") && t.endsWith("}")) {
            t = t.substring(1, t.length() - 1);
        }
        return t;
    }

    private static long number(String text, String what, String file) throws ImageException {
        try {
            long n = Long.parseLong(text == null ? "" : text.strip());
            if (n < 0 || n > (1L << 46)) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new ImageException(file, "DiskDescriptor.xml: <" + what + "> is not a sector count: '"
                    + oneLine(String.valueOf(text)) + "'");
        }
    }

    private static Element child(Element parent, String name) {
        if (parent == null) {
            return null;
        }
        List<Element> all = children(parent, name);
        return all.isEmpty() ? null : all.get(0);
    }

    private static List<Element> children(Element parent, String name) {
        List<Element> out = new ArrayList<>();
        if (parent == null) {
            return out;
        }
        NodeList nodes = parent.getChildNodes();
        for (int i = 0; i < nodes.getLength(); i++) {
            Node n = nodes.item(i);
            if (n instanceof Element e && e.getTagName().equals(name)) {
                out.add(e);
            }
        }
        return out;
    }

    private static String text(Element parent, String name) {
        Element e = child(parent, name);
        return e == null ? null : e.getTextContent().strip();
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("[\\r\\n\\t]+", " ").strip();
    }
}
